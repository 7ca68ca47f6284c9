export const fixture = 'workflow-like';
