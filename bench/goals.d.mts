// Types of bench/goals.mjs for the TypeScript benches.
export interface GoalRow {
  measured: number;
  limit: number;
  unit: 'x' | 'ms' | 's' | 'MB' | 'runs';
  shown: string;
  atLeast?: boolean;
}
export function goal(row: string, r: GoalRow): void;
export function takeGoals(text: string): { text: string; rows: Array<GoalRow & { row: string }> };
export function verdict(r: GoalRow): string;
export function goalTable(rows: Array<GoalRow & { row: string }>, wanted?: string[]): string;
