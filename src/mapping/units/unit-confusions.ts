/**
 * Valid UCUM codes that vendors often write meaning another unit: 'C' is the coulomb, not Celsius. Such a unit
 * passes every check until it meets the unit it was meant to be, so the conversion error names the likely intent.
 */
interface Confusion {
  /** What the code means in UCUM, and what it measures. */
  is: string;
  /** The UCUM code that was probably meant, and its name. */
  meant: string;
  meantName: string;
  /** What the meant unit measures, with its article. */
  meantQuantity: string;
}

const CONFUSIONS: Readonly<Record<string, Confusion>> = {
  C: { is: 'coulomb (electric charge)', meant: 'Cel', meantName: 'Celsius', meantQuantity: 'a temperature' },
  F: {
    is: 'farad (electric capacitance)',
    meant: '[degF]',
    meantName: 'Fahrenheit',
    meantQuantity: 'a temperature',
  },
  deg: { is: 'degree (plane angle)', meant: 'Cel', meantName: 'Celsius', meantQuantity: 'a temperature' },
  ft: { is: 'femtotonne (mass)', meant: '[ft_i]', meantName: 'feet', meantQuantity: 'a length' },
  mb: { is: 'millibarn (area)', meant: 'mbar', meantName: 'millibar', meantQuantity: 'a pressure' },
  Gal: { is: 'gal (acceleration)', meant: '[gal_us]', meantName: 'US gallons', meantQuantity: 'a volume' },
};

/**
 * A hint for a unit whose UCUM meaning cannot convert to `target` (a quantity named `targetQuantity`) when a
 * commonly meant unit could, telling how to alias it. `spelling` is what the payload or mapping wrote; `alias`
 * is set when the mapping's units.aliases already maps that spelling to `code`.
 */
export function confusionHint(
  spelling: string,
  code: string,
  canConvertTo: (meant: string) => boolean,
  alias: boolean,
): string | null {
  const c = CONFUSIONS[code];
  if (!c || !canConvertTo(c.meant)) return null;
  const value = /^[A-Za-z0-9./]+$/.test(c.meant) ? c.meant : JSON.stringify(c.meant);
  const key = /^[A-Za-z0-9_]+$/.test(spelling) ? spelling : JSON.stringify(spelling);
  const fix = alias
    ? `change units.aliases.${key} to ${value} in the mapping`
    : `add \`units.aliases: { ${key}: ${value} }\` to the mapping`;
  return `'${code}' is ${c.is} in UCUM, not ${c.meantQuantity}; if the device means ${c.meantName}, ${fix}`;
}
