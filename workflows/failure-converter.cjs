/**
 * The failure converter of the client, the worker and the workflow bundle (DataConverter's
 * `failureConverterPath`): a failure's message and stack trace travel as an encoded payload, so the
 * payload codec (lib/payload-codec.ts) encrypts them like every other payload, and the Temporal server,
 * its database and the Web UI see "Encoded failure" only. CommonJS, because the SDK loads it with
 * `require` in the client and worker, and webpack bundles it into the workflow code.
 */
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
