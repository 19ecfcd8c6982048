/** Printing learn() (placeholder until learn.ts lands). */
import type { LearnAction } from './actions.ts';

export function formatLearn(_a: LearnAction): string {
  return 'learn()';
}
