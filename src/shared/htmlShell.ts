// The one page skeleton of the timeline view, in the panel and in the standalone report: a strict
// Content-Security-Policy (scripts only by nonce, nothing fetched), the head and the body.

/** For text and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Where the page may take styles, images and fonts from; scripts always come by nonce only. */
export interface CspSources {
  /** The page's nonce (fresh from a CSPRNG for every page). */
  nonce: string;
  /** style-src, e.g. the webview's cspSource, or `'nonce-…'` for an inline style. */
  style: string;
  /** img-src. */
  img: string;
  /** font-src. */
  font: string;
}

/** default-src 'none', script by nonce, no connections, no base or form targets. */
export function strictCsp(src: CspSources): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${src.nonce}'`,
    `style-src ${src.style}`,
    `img-src ${src.img}`,
    `font-src ${src.font}`,
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export interface HtmlShellInput {
  /** The Content-Security-Policy (see `strictCsp`). */
  csp: string;
  /** Document title, plain text (escaped here); screen readers announce it. */
  title: string;
  /** Markup after the title in <head> (styles); trusted, not escaped. */
  head: string;
  /** The body's markup; trusted, not escaped. */
  body: string;
}

export function htmlShell(input: HtmlShellInput): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(input.csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(input.title)}</title>
${input.head}
</head>
<body>
${input.body}
</body>
</html>
`;
}
