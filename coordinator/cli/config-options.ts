/**
 * The options that set config fields, made from the field table (shared/config-fields.ts):
 * one value each for `run`, a comma list (with ranges) each for `sweep`, and `--param
 * field=value[,value...]` for any field by its name; and the config fields a parsed
 * command line gives.
 */
import { Option, type Command } from 'commander';
import { CONFIG_FIELDS, FIELD_SPECS, allowedOf, isConfigField, type SimConfig } from '../../shared/config.js';
import { RANGE_ALLOWED, expandRangeItems } from '../../shared/ranges.js';
import { numericField } from '../experiments/load.js';
import { UsageError } from '../../shared/errors.js';
import { flagOf } from '../../shared/config-fields.js';
import { INTEGER, NUMBER, choiceOption, parseScalar, rangeList, stringList } from './options.js';

/** Parse an option value as a number of the form `pattern` (an integer by default), or fail naming the option and what it allows. */
function intOption(field: keyof SimConfig, pattern = INTEGER) {
  const option = FIELD_SPECS[field].option!.flag;
  return (raw: string): number => {
    if (!pattern.test(raw)) throw new UsageError({ option, field, value: raw, allowed: allowedOf(field) });
    return Number(raw);
  };
}

/** Parse a comma list of integers (a sweep axis). Ranges are checked when configs resolve. */
function intListOption(field: keyof SimConfig) {
  const option = FIELD_SPECS[field].option!.flag;
  const one = (part: string): number => {
    if (!INTEGER.test(part)) {
      throw new UsageError({ option, field, value: part, allowed: `a comma list of integers or ranges (1..64, 1..64:x2, 0..96:+8), each ${allowedOf(field).replace(/^an integer /, '')}` });
    }
    return Number(part);
  };
  return (raw: string): number[] => rangeList(option, field, raw, one);
}

const numberOption = (field: keyof SimConfig) => intOption(field, NUMBER);

function numberListOption(field: keyof SimConfig) {
  const one = numberOption(field);
  return (raw: string): number[] => rangeList(FIELD_SPECS[field].option!.flag, field, raw, one);
}

/** `--param field=value[,value...]`, repeatable: any config field, including ones without a flag. */
function paramOption(raw: string, prev: Record<string, (string | number | boolean)[]> = {}): Record<string, (string | number | boolean)[]> {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new UsageError({ option: '--param', value: raw, allowed: `field=value[,value...] with a field among ${CONFIG_FIELDS.join(', ')}` });
  const field = raw.slice(0, eq);
  if (!isConfigField(field)) {
    throw new UsageError({ option: '--param', value: field, allowed: `one of ${CONFIG_FIELDS.join(', ')}`, detail: `${JSON.stringify(field)} is not a parameter; expected one of ${CONFIG_FIELDS.join(', ')}` });
  }
  if (Object.hasOwn(prev, field)) throw new UsageError({ option: '--param', value: raw, allowed: 'each field once', detail: `${field} is given twice; expected each field once` });
  const values = raw.slice(eq + 1).split(',').map(parseScalar);
  if (!numericField(field)) return { ...prev, [field]: values };
  // A numeric field's list may hold ranges (1..64:x2).
  const r = expandRangeItems(values);
  if ('error' in r) throw new UsageError({ option: `--param ${field}`, value: values[r.index], allowed: RANGE_ALLOWED, detail: r.error });
  return { ...prev, [field]: r.values as (string | number | boolean)[] };
}

/**
 * The fields with an option of their own, in option order: sweep axes vary in this
 * order (the first slowest). The others are set with --param.
 */
export const OPTION_FIELDS = CONFIG_FIELDS.filter((f) => FIELD_SPECS[f].option).sort((a, b) => FIELD_SPECS[a].option!.order - FIELD_SPECS[b].option!.order);

/** The same in `--help`: the choice options first. */
const HELP_FIELDS = [...OPTION_FIELDS.filter((f) => FIELD_SPECS[f].option!.kind === 'choice'), ...OPTION_FIELDS.filter((f) => FIELD_SPECS[f].option!.kind !== 'choice')];

/** The commander option of a config field: one value for `run`, a comma list for `sweep`. */
function configOption(field: keyof SimConfig, list: boolean): Option {
  const spec = FIELD_SPECS[field];
  const o = spec.option!;
  const withDefault = (help: string, show: boolean | undefined) => (show ? `${help} (default ${String(spec.default)})` : help);
  switch (o.kind) {
    case 'choice': {
      const choices = spec.choices;
      if (!choices) throw new Error(`${field}: a choice option needs the field's choices`);
      if (list) return new Option(`${o.flag} <list>`, withDefault(`${o.listHelp}, among ${choices.join(', ')}`, o.listDefault)).argParser(stringList);
      const option = choiceOption(`${o.flag} ${o.arg}`, o.help, choices);
      return o.runDefault ? option.default(spec.default) : option;
    }
    case 'int':
      return new Option(`${o.flag} ${list ? '<list>' : (o.arg ?? '<n>')}`, withDefault(o.help, o.showDefault)).argParser<unknown>(list ? intListOption(field) : intOption(field));
    case 'text':
      // One value in a sweep too (a path may hold commas): the sweep's axis has one point.
      return new Option(`${o.flag} ${o.arg}`, o.help).argParser<unknown>((raw: string) => {
        if (raw === '') throw new UsageError({ option: o.flag, field, value: raw, allowed: allowedOf(field) });
        return list ? [raw] : raw;
      });
    case 'number':
      return new Option(`${o.flag} ${list ? '<list>' : '<x>'}`, o.help).argParser<unknown>(list ? numberListOption(field) : numberOption(field));
    case 'switch':
      return new Option(o.flag, o.help);
  }
}

/** Config options shared by `run` (single values) and `sweep` (comma lists). */
export function addConfigOptions(cmd: Command, list: boolean): Command {
  for (const field of HELP_FIELDS) {
    cmd.addOption(configOption(field, list));
    const o = FIELD_SPECS[field].option!;
    if (o.kind === 'switch' && o.negatable) cmd.addOption(new Option(`--no-${o.flag.slice(2)}`).hideHelp());
  }
  return cmd.option('--param <field=value>', `set any config field${list ? ' to a comma list of values' : ''} (repeatable), e.g. --param check=true`, paramOption);
}

/** Where commander keeps an option's value (`--cache-size` in cacheSize, `--no-exit-flush` in exitFlush). */
const ATTRIBUTE = Object.fromEntries(OPTION_FIELDS.map((f) => [f, new Option(FIELD_SPECS[f].option!.flag).attributeName()]));

/** The config fields given by the options of `run` or `sweep` (lists for sweep); `typed(attr)` tells a value typed from a default. */
export function configFromOptions(opts: Record<string, unknown>, list: boolean, typed?: (attribute: string) => boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of OPTION_FIELDS) {
    const o = FIELD_SPECS[field].option!;
    const v = opts[ATTRIBUTE[field]!];
    // A switch sets its field only when given: `--x` true, `--no-x` false.
    if (o.kind === 'switch') {
      if (o.negatable) out[field] = v === true || v === false ? v : undefined;
      else out[field] = o.flag.startsWith('--no-') ? (v === false ? false : undefined) : v === true ? true : undefined;
    }
    else out[field] = v;
  }
  for (const [k, v] of Object.entries((opts.param as Record<string, unknown[]>) ?? {})) {
    if (!list && v.length !== 1) {
      throw new UsageError({ option: `--param ${k}`, value: v.join(','), allowed: 'one value (use `vcpusim sweep` for lists)' });
    }
    const attr = ATTRIBUTE[k];
    if (out[k] !== undefined && (typed === undefined || attr === undefined || typed(attr))) {
      throw new UsageError({ option: `--param ${k}`, value: v.join(','), detail: `also given as ${flagOf(k)}; expected the field once` });
    }
    out[k] = list ? v : v[0];
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}
