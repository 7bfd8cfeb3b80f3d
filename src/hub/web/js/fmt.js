// Formatting shared by the views. Times are UTC ISO 8601 to the second, as
// the API writes them; numbers are plain digits, so they copy exactly.

export function iso(epochSec) {
  return new Date(epochSec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function epoch(isoText) {
  return isoText ? Math.floor(Date.parse(isoText) / 1000) : null;
}

export function asnText(asns) {
  return (asns || []).map((a) => 'AS' + a).join(' ');
}

export function num(v, digits = 0) {
  if (v === null || v === undefined) return '';
  return digits ? Number(v).toFixed(digits) : String(v);
}
