import type { CliCommand } from '../command.ts'

/** `lattice model import-hf`: placeholder until the HuggingFace importer lands. */
export const modelImportHfCommand: CliCommand = {
  name: 'model import-hf',
  description: 'Import an ONNX model from the HuggingFace Hub, a snapshot directory or the HF cache, and deploy it',
  arguments: ['<repo>'],
  options: [],
  async run() {
    return 1
  },
}
