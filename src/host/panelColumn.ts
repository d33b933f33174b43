// Where the timeline panel goes when a run starts, as a pure choice over editor columns (numbers as
// vscode.ViewColumn gives them: 1 is the leftmost group), so it is unit-tested without VS Code.

/**
 * The column for the panel of a run: where it is, unless that is the column of the editor being
 * run; then the group next to that editor (the one to its right, else the one to its left), and a
 * new group beside it only when there is no other. Reusing a group that is already open never
 * squeezes the window into a third column (at 1400 px, three columns leave the panel about 340 px,
 * under the 480 px it is built for); the group it covers shows other code, not the code being run.
 *
 * @param panel the panel's column now; undefined when it has none (not shown in a group)
 * @param editor the column of the editor being run; undefined when it is not shown
 * @param groups the columns of the editor groups open now
 * @returns a column to show the panel in, or 'beside' for a new group to the right of the editor
 */
export function panelColumnFor(panel: number | undefined, editor: number | undefined, groups: readonly number[]): number | 'beside' {
  if (panel !== undefined && panel !== editor) return panel;
  if (editor === undefined) return panel ?? 'beside';
  const others = [...new Set(groups)].filter((c) => c !== editor).sort((a, b) => a - b);
  return others.find((c) => c > editor) ?? others.at(-1) ?? 'beside';
}
