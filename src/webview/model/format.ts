// The formatters live in shared/ (the host's decorations and the SVG export use them too).
export { formatDuration, formatTime } from '../../shared/format';
