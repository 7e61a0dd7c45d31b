import { describeSettingsConformance } from './settings-traces.ts';

describeSettingsConformance(1, 2);
