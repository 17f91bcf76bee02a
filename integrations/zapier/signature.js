'use strict';
// Standard Webhooks signature check of a pushed request, with the hook's secret from subscribe.

const crypto = require('crypto');

const header = (headers, name) => {
  // Zapier may hand headers over as `Http-Webhook-Id`; plain names otherwise.
  for (const [key, value] of Object.entries(headers || {})) {
    const lower = key.toLowerCase().replace(/_/g, '-');
    if (lower === name || lower === `http-${name}`) {
      return value;
    }
  }
  return undefined;
};

// true: signed by this secret; false: signed, but not by it; null: nothing to check.
const verify = (secret, rawRequest) => {
  if (!secret || !rawRequest) {
    return null;
  }
  const id = header(rawRequest.headers, 'webhook-id');
  const timestamp = header(rawRequest.headers, 'webhook-timestamp');
  const signatures = header(rawRequest.headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || typeof rawRequest.content !== 'string') {
    return null;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${rawRequest.content}`).digest();
  return signatures.split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    const given = Buffer.from(value || '', 'base64');
    return version === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
};

module.exports = { verify };
