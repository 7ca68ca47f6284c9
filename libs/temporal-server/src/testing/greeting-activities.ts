/** Trivial activity for end-to-end tests: proves the worker ran real activity code. */
export async function composeGreeting(greeting: string, name: string): Promise<string> {
  return `${greeting}, ${name}!`;
}
