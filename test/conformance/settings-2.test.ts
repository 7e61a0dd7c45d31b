import { describeSettingsConformance } from './settings-traces.ts';

describeSettingsConformance(2, 2);
