import { carrierComplianceSuite } from '@courier/carrier-compliance';
import { aempHarness } from './aemp-harness.js';

carrierComplianceSuite('aemp (cbor)', aempHarness(['cbor']));
carrierComplianceSuite('aemp (json)', aempHarness(['json']));
