// Test fixtures: torchvision graphs committed with their weights stripped (see test/fixtures/torchvision/export.py).
import { readFileSync } from 'node:fs'
import { decodeModel, encodeModel, protoDims, STRIPPED_MARK } from '../../../src/inference/proto.ts'

/** torchvision GMACs at 224x224 (`_ops` in torchvision's model docs). */
export const TORCHVISION_GMACS: Record<string, number> = {
  resnet18: 1.814,
  resnet50: 4.089,
  mobilenet_v2: 0.301,
  squeezenet1_0: 0.819,
  squeezenet1_1: 0.349,
  alexnet: 0.714,
}

const ELEMENT_BYTES: Record<number, number> = { 1: 4, 6: 4, 7: 8, 11: 8 }

/** The stripped fixture bytes. */
export function torchvisionFixture(name: string): Uint8Array {
  return readFileSync(new URL(`../../fixtures/torchvision/${name}.onnx`, import.meta.url))
}

/** The fixture with every stripped initializer restored as zeros, so ONNX Runtime can load it. */
export function restoreStripped(bytes: Uint8Array): Uint8Array {
  const m = decodeModel(bytes)
  for (const t of m.graph?.initializer ?? []) {
    if (t.docString !== STRIPPED_MARK) continue
    const n = protoDims(t).reduce((a, b) => a * b, 1)
    t.rawData = new Uint8Array(n * (ELEMENT_BYTES[t.dataType ?? 1] ?? 4))
  }
  return encodeModel(m)
}
