import { proxyActivities } from '@temporalio/workflow';
// Type-only import: activity code must stay out of the workflow bundle.
import type * as activities from './greeting-activities';

const { composeGreeting } = proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

export async function greetingWorkflow(name: string): Promise<string> {
  return await composeGreeting('Hello', name);
}
