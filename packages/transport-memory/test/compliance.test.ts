import { carrierComplianceSuite } from '@courier/carrier-compliance';
import { memoryHarness } from './memory-harness.js';

carrierComplianceSuite('memory', memoryHarness);
