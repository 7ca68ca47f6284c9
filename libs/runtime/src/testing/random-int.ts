/** Integer in [min, max], inclusive, from a uniform [0, 1) generator such as `seededRandom`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}
