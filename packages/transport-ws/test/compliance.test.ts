import { carrierComplianceSuite } from '@courier/carrier-compliance';
import { wsHarness } from './ws-harness.js';

carrierComplianceSuite('ws (Erlang distribution over WebSocket)', wsHarness());
