// A tiny element builder: the webview builds its own DOM so the host's HTML is just a shell.

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

/** Sets text only when it changed (header updates run every few frames). */
export function setText(node: Node, text: string): void {
  if (node.textContent !== text) node.textContent = text;
}
