/**
 * The migration list, imported statically so it works the same from source (tsx), bundles and tests.
 * Add each new file here; names sort by their timestamp.
 */
import type { Migration } from 'kysely';
import * as m0001 from './2026_11_27_0001_initial.js';
import * as m0002 from './2026_11_27_0002_intake.js';
import * as m0003 from './2026_11_27_0003_letters.js';
import * as m0004 from './2026_11_27_0004_ddas.js';
import * as m0005 from './2026_11_27_0005_users.js';
import * as m0006 from './2026_11_27_0006_inbox.js';
import * as m0008 from './2026_11_27_0008_signal_case.js';
import * as m0009 from './2026_11_27_0009_intake_matching.js';
import * as m0010 from './2026_11_27_0010_inbox_mine.js';
import * as m0011 from './2026_11_27_0011_case_rounds.js';
import * as m0012 from './2026_11_27_0012_signal_reference_check.js';
import * as m0013 from './2026_11_27_0013_objection_deliveries.js';
import * as m0014 from './2026_11_28_0014_signal_amount_positive.js';
import * as m0015 from './2026_11_28_0015_resident_details.js';
import * as m0016 from './2026_12_01_0016_dispatch_claims.js';
import * as m0017 from './2026_12_07_0017_login_throttle.js';
import * as m0018 from './2026_12_07_0018_consent_forms.js';
import * as m0019 from './2026_12_07_0019_resident_reports.js';
import * as m0020 from './2026_12_08_0020_signals_in_flight.js';

export const migrations: Record<string, Migration> = {
  '2026_11_27_0001_initial': m0001,
  '2026_11_27_0002_intake': m0002,
  '2026_11_27_0003_letters': m0003,
  '2026_11_27_0004_ddas': m0004,
  '2026_11_27_0005_users': m0005,
  '2026_11_27_0006_inbox': m0006,
  '2026_11_27_0008_signal_case': m0008,
  '2026_11_27_0009_intake_matching': m0009,
  '2026_11_27_0010_inbox_mine': m0010,
  '2026_11_27_0011_case_rounds': m0011,
  '2026_11_27_0012_signal_reference_check': m0012,
  '2026_11_27_0013_objection_deliveries': m0013,
  '2026_11_28_0014_signal_amount_positive': m0014,
  '2026_11_28_0015_resident_details': m0015,
  '2026_12_01_0016_dispatch_claims': m0016,
  '2026_12_07_0017_login_throttle': m0017,
  '2026_12_07_0018_consent_forms': m0018,
  '2026_12_07_0019_resident_reports': m0019,
  '2026_12_08_0020_signals_in_flight': m0020,
};
