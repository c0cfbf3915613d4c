/**
 * A number as `toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })`
 * writes it (thousands grouped by commas, `d` decimals, a minus sign kept on a negative that
 * rounds to zero), without Intl: the first toLocaleString of a process loads ICU's locale
 * data, ~20 ms here, which `run` paid after its simulation, on its way out. ICU rounds the
 * shortest decimal that reads back as the double (what String(n) gives), a tie away from
 * zero; so does this (toFixed would round the double's exact value: 1.0005 → "1.000", where
 * ICU writes "1.001").
 */
export function grouped(n: number, digits = 0): string {
  if (!Number.isFinite(n) || Math.abs(n) >= 1e21 || !Number.isInteger(digits) || digits < 0 || digits > 20) {
    return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  // The shortest decimal of |n| as a digit string and the place of its point.
  const s = String(Math.abs(n));
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const dot = mantissa.indexOf('.');
  let ds = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  let point = (dot < 0 ? mantissa.length : dot) + (e < 0 ? 0 : Number(s.slice(e + 1)));
  // Leading zeros so that the point is at least one digit in; trailing ones for `digits` decimals.
  if (point < 1) {
    ds = '0'.repeat(1 - point) + ds;
    point = 1;
  }
  const keep = point + digits;
  if (ds.length < keep) ds += '0'.repeat(keep - ds.length);
  // Round half away from zero at `keep` digits, carrying by hand (the digit string may exceed a double's integers).
  if (ds.length > keep && ds.charCodeAt(keep) >= 53 /* '5' */) {
    const d = ds.slice(0, keep).split('');
    let i = keep - 1;
    for (; i >= 0 && d[i] === '9'; i--) d[i] = '0';
    if (i >= 0) d[i] = String(Number(d[i]) + 1);
    else {
      d.unshift('1');
      point++;
    }
    ds = d.join('');
  } else ds = ds.slice(0, keep);
  const whole = ds.slice(0, point).replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+$)/g, ',');
  return (n < 0 || Object.is(n, -0) ? '-' : '') + whole + (digits > 0 ? '.' + ds.slice(point) : '');
}
