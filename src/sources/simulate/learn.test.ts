import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DATA, fixture } from '../testing.ts';
import { learnProfile } from './learn.ts';
import { loadProfile, profileProblem } from './profile.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('profile learn', () => {
  it('ships a default profile learned from the London half-hourly data, with its attribution', async () => {
    const p = await loadProfile();
    assert.equal(profileProblem(p), undefined);
    assert.match(p.attribution ?? '', /Low Carbon London.*UK Power Networks/);
    assert.equal(p.learnedFrom?.file, 'halfhourly_2013_20_households.csv.gz');
  });

  it('learns from the UCI hourly file: a level near the house’s real daily mean, an evening peak, winter above summer', async () => {
    const p = await learnProfile(`${DATA}meters/uci/household_power_hourly.csv.gz`);
    assert.equal(profileProblem(p), undefined);
    // the Sceaux house uses about 26 kWh a day (Global_active_power / 60 summed over a day)
    assert.ok(Math.exp(p.level.mu) > 20 && Math.exp(p.level.mu) < 32, `level ${Math.exp(p.level.mu)}`);
    assert.ok(Math.abs(mean(p.shape.flat()) - 1) < 1e-3);
    assert.ok(Math.abs(mean(p.season) - 1) < 1e-3);
    const byHour = Array.from({ length: 24 }, (_, h) => mean(p.shape.map((d) => d[h])));
    assert.ok(byHour[20] > 1.3 * byHour[4], `evening ${byHour[20]} vs night ${byHour[4]}`);
    assert.ok(p.season[0] > p.season[6] * 1.3, `January ${p.season[0]} vs July ${p.season[6]}`);
    assert.match(p.description ?? '', /One meter only/);
  });

  it('learns weekday factors from London daily totals, skipping partial days', async () => {
    const p = await learnProfile(`${DATA}meters/london/daily_500_households.csv.gz`);
    assert.equal(profileProblem(p), undefined);
    assert.ok((p.learnedFrom?.meters as number) > 400);
    assert.ok(p.level.sigma > 0.3 && p.level.sigma < 1.2);
    for (const day of p.shape)
      assert.ok(
        day.every((x) => x === day[0]),
        'flat within a day',
      );
  });

  it('refuses a file it cannot read, naming it', async () => {
    const path = await fixture('other.csv', 'a,b,c\n1,2,3\n');
    await assert.rejects(learnProfile(path), /other\.csv:1: not a file profile learn reads/);
  });

  it('learns a water profile from the DAIAD zip: litres a day from register differences, a daytime peak', async () => {
    const p = await learnProfile(`${DATA}meters/water/swm_trialA_clean.zip`);
    assert.equal(profileProblem(p), undefined);
    assert.equal(p.kind, 'water');
    assert.equal(p.level.unit, 'L/day');
    assert.ok(
      Math.exp(p.level.mu) > 80 && Math.exp(p.level.mu) < 500,
      `median ${Math.exp(p.level.mu)} L/day`,
    );
    const byHour = Array.from({ length: 24 }, (_, h) => mean(p.shape.map((d) => d[h])));
    assert.ok(byHour[11] > 3 * byHour[4], `late morning ${byHour[11]} vs night ${byHour[4]}`);
    assert.match(p.attribution ?? '', /CC BY-SA 4\.0/);
    assert.equal((await loadProfile('water')).kind, 'water');
  });
});
