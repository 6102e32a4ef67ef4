import { carrierComplianceSuite } from '@courier/carrier-compliance';
import { distHarness, tcpKit } from './dist-harness.js';

carrierComplianceSuite('tcp (Erlang distribution)', distHarness(tcpKit));
