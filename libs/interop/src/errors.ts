/** A Keras file, model directory, output path or environment ippro cannot use; the message names it in one line. */
export class KerasBadInput extends Error {
  override readonly name = 'KerasBadInput';
}

/** The converter failed on input it accepted: a defect to report, with the converter's last words. */
export class KerasConverterFailure extends Error {
  override readonly name = 'KerasConverterFailure';
}
