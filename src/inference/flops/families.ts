// Which op family each counted op belongs to: the gas schedule weighs FLOPs and bytes per family
// (docs/gas.md). Every op the counter has a rule for has a family; none is free.

/** Op families priced separately by the gas schedule. */
export type OpFamily =
  | 'mac'
  | 'conv'
  | 'elementwise'
  | 'transcendental'
  | 'reduction'
  | 'normalisation'
  | 'movement'
  | 'permute'
  | 'shape'
  | 'control'

/** Every family, in the order docs and benchmarks list them. */
export const OP_FAMILIES: readonly OpFamily[] = [
  'mac',
  'conv',
  'elementwise',
  'transcendental',
  'reduction',
  'normalisation',
  'movement',
  'permute',
  'shape',
  'control',
]

const MEMBERS: Record<Exclude<OpFamily, 'elementwise'>, readonly string[]> = {
  // multiply-accumulate over dense operands (matrix products): FLOPs are 2 per MAC
  mac: [
    'Attention',
    'DFT',
    'Det',
    'Einsum',
    'GRU',
    'Gemm',
    'LSTM',
    'MatMul',
    'MatMulInteger',
    'QLinearMatMul',
    'RNN',
    'STFT',
  ],
  // multiply-accumulate through a window (im2col, depthwise and grouped kernels): slower per MAC than MatMul
  conv: ['Conv', 'ConvInteger', 'ConvTranspose', 'QLinearConv'],
  // one libm-style call per element (exp, log, trig, erf) rather than one instruction
  transcendental: [
    'Acos',
    'Acosh',
    'Asin',
    'Asinh',
    'Atan',
    'Atanh',
    'BlackmanWindow',
    'Celu',
    'Cos',
    'Cosh',
    'Elu',
    'Erf',
    'Exp',
    'Gelu',
    'HammingWindow',
    'HannWindow',
    'Log',
    'Mish',
    'Pow',
    'Selu',
    'Sigmoid',
    'Sin',
    'Sinh',
    'Softplus',
    'Tan',
    'Tanh',
  ],
  reduction: [
    'ArgMax',
    'ArgMin',
    'AveragePool',
    'CumSum',
    'GlobalAveragePool',
    'GlobalLpPool',
    'GlobalMaxPool',
    'LpPool',
    'MaxPool',
    'MaxRoiPool',
    'NegativeLogLikelihoodLoss',
    'NonMaxSuppression',
    'ReduceL1',
    'ReduceL2',
    'ReduceLogSum',
    'ReduceLogSumExp',
    'ReduceMax',
    'ReduceMean',
    'ReduceMin',
    'ReduceProd',
    'ReduceSum',
    'ReduceSumSquare',
    'RoiAlign',
    'SoftmaxCrossEntropyLoss',
    'TopK',
    'Unique',
  ],
  // a reduction and an element-wise pass over the same data (mean/variance, max/sum-of-exp)
  normalisation: [
    'BatchNormalization',
    'GroupNormalization',
    'Hardmax',
    'InstanceNormalization',
    'LRN',
    'LayerNormalization',
    'LogSoftmax',
    'LpNormalization',
    'MeanVarianceNormalization',
    'Softmax',
  ],
  // contiguous copies and fills (Gather and GatherND copy whole slices): priced by the bytes they move
  movement: [
    'CenterCropPad',
    'Compress',
    'Concat',
    'ConcatFromSequence',
    'ConstantOfShape',
    'Expand',
    'EyeLike',
    'Gather',
    'GatherND',
    'MaxUnpool',
    'NonZero',
    'OneHot',
    'Pad',
    'Range',
    'Slice',
    'Split',
    'SplitToSequence',
    'Tile',
    'Trilu',
  ],
  // strided or indexed copies: every element's source address is computed
  permute: [
    'DepthToSpace',
    'GatherElements',
    'GridSample',
    'Resize',
    'ReverseSequence',
    'Scatter',
    'ScatterElements',
    'ScatterND',
    'SpaceToDepth',
    'Transpose',
    'Upsample',
  ],
  // metadata and aliasing: the runtime may still copy, so bytes are charged
  shape: [
    'Constant',
    'Dropout',
    'Flatten',
    'Identity',
    'Reshape',
    'SequenceAt',
    'SequenceConstruct',
    'SequenceEmpty',
    'SequenceErase',
    'SequenceInsert',
    'SequenceLength',
    'Shape',
    'Size',
    'Squeeze',
    'Unsqueeze',
  ],
  // the subgraphs' nodes are priced one by one; the node itself pays per iteration
  control: ['If', 'Loop', 'Scan'],
}

const FAMILY_OF: ReadonlyMap<string, OpFamily> = new Map(
  Object.entries(MEMBERS).flatMap(([f, ops]) => ops.map((op): [string, OpFamily] => [op, f as OpFamily])),
)

/** The family an op is priced as; ops not listed above are element-wise (one instruction or so per element). */
export function opFamily(op: string): OpFamily {
  return FAMILY_OF.get(op) ?? 'elementwise'
}

/**
 * Families whose reads are bounded by what they write: a Slice or Gather reads only the elements it copies,
 * a Shape reads no data at all. Other families read every input element.
 */
export const READS_WHAT_IT_WRITES: ReadonlySet<OpFamily> = new Set(['movement', 'permute', 'shape'])
