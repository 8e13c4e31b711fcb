// `lakestream profile learn FILE`: learn a simulator profile from real readings and write it as JSON.

import { writeFile } from 'node:fs/promises';
import { LakestreamError } from '../errors.ts';
import { learnProfile } from '../sources/simulate/learn.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'profile',
  summary: 'learn a meter profile for the simulator from real readings',
  usage: 'profile learn FILE [--out PROFILE.json] [--name NAME]',
  description: `
Reads a file of real readings (London half-hourly or daily, UCI hourly, DAIAD water; .gz and .zip
read directly) and
estimates what "lakestream produce --source simulate --profile PROFILE.json" draws meters from:
the spread of meters' daily levels (lognormal), the hour-of-day × weekday shape, the seasonal curve
by month, and the day-to-day and within-day noise. Without --out the profile goes to stdout.

Example:
  lakestream profile learn ../shared/data/meters/london/halfhourly_2013_20_households.csv.gz --out my-profile.json`,
  options: {
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      help: 'where to write the profile JSON (default: stdout)',
    },
    name: { type: 'string', value: 'NAME', help: "the profile's name (default: from the file name)" },
  },
  async run({ values, positionals }) {
    const [sub, file, ...extra] = positionals;
    if (sub !== 'learn')
      throw new LakestreamError(
        'BAD_ARGUMENT',
        `${sub === undefined ? 'give a subcommand' : `unknown subcommand "${sub}"`} — use "lakestream profile learn FILE"`,
      );
    if (!file)
      throw new LakestreamError(
        'BAD_ARGUMENT',
        'profile learn needs a FILE — e.g. "lakestream profile learn readings.csv.gz"',
      );
    if (extra.length > 0)
      throw new LakestreamError('BAD_ARGUMENT', `unexpected arguments: ${extra.join(' ')} — give one FILE`);
    let lastReport = 0;
    const profile = await learnProfile(file, {
      name: values.name,
      onProgress: (fraction, rows) => {
        const now = Date.now();
        if (now - lastReport < 1000) return;
        lastReport = now;
        process.stderr.write(
          `reading ${file}: ${rows.toLocaleString('en-US')} rows, ${(fraction * 100).toFixed(0)} %\n`,
        );
      },
    });
    const json = `${JSON.stringify(profile, null, 2).replace(/\[\s+([-\d.,\s]+?)\s+\]/g, (_, xs: string) => `[${xs.split(/,\s*/).join(', ')}]`)}\n`;
    if (values.out) {
      await writeFile(values.out, json);
      const lf = profile.learnedFrom as { meters: number; rows: number };
      process.stderr.write(
        `wrote ${values.out}: ${lf.meters} meters, ${lf.rows.toLocaleString('en-US')} rows; daily level median ` +
          `${Math.exp(profile.level.mu).toFixed(2)} ${profile.level.unit} (sigma ${profile.level.sigma}), ` +
          `noise ${profile.noise.sigma} within the day, ${profile.noise.daySigma} day to day\n`,
      );
    } else process.stdout.write(json);
    return 0;
  },
});
