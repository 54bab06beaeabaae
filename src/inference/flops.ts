// Static FLOP counter: shape inference over the ONNX graph with concrete input shapes, then a per-node rule.
// The rules live in src/inference/flops/, one file per op family behind a table (flops/graph.ts dispatches);
// docs/flops.md lists every rule. This module is the counter's public surface.
export { parseShapeArg } from './flops/args.ts'
export { checkModelBounds, type ModelBounds } from './flops/bounds.ts'
export type { CountFlopsOpts, FlopReport, InputShape } from './flops/common.ts'
export { GraphSizeError, MemoryBoundError } from './flops/errors.ts'
export { OP_FAMILIES, type OpFamily, opFamily } from './flops/families.ts'
export { countFlops, createFlopCounter, type FlopCounter } from './flops/graph.ts'
export { findNondeterministicOps, NONDETERMINISTIC_OPS } from './flops/nondeterministic.ts'
export {
  CURRENT_GAS_SCHEDULE,
  GAS_SCHEDULES,
  type GasSchedule,
  gasSchedule,
  MAX_PEAK_BYTES_V2,
} from './flops/schedule.ts'
