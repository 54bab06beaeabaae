/** ethereumjs error messages carry a block/tx dump after " (" or " -"; keep the first clause. */
export function shortEjsMessage(err: unknown): string {
  const msg = String((err as Error)?.message ?? err)
  return msg.split(/ \(tx type|\(block number| block number=| tx type=| hash=/)[0].trim()
}
