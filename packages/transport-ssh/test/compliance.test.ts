import { carrierComplianceSuite } from '@courier/carrier-compliance';
import { sshHarness } from './support/harness.js';

carrierComplianceSuite('ssh (Erlang distribution in an SSH channel)', sshHarness, { refusedCredentialCode: 'NOT_ALLOWED' });
