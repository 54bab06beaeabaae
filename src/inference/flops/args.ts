// The CLI's `name=1x3x224x224` shape arguments.
import { ShapeArgError } from '../errors.ts'

/** Parse `name=1x3x224x224` (the CLI's --input form) into a name and a shape. */
export function parseShapeArg(arg: string): [string, number[]] {
  const eq = arg.lastIndexOf('=')
  if (eq <= 0) throw new ShapeArgError(arg, 'no name= part')
  const dims = arg.slice(eq + 1)
  const shape = dims === '' || dims === 'scalar' ? [] : dims.split(/[x,]/).map(Number)
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new ShapeArgError(arg, `"${dims}" is not a shape`)
  }
  return [arg.slice(0, eq), shape]
}
