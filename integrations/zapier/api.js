'use strict';
// The connector's API as the app calls it: base URL, API key, errors as the connector words them.

// The connector's address: the connection's own field, else the app's environment (`zapier env:set`).
const apiUrl = (bundle, path) => {
  const base = (bundle.authData.base_url || process.env.CONNECTOR_URL || '').replace(/\/+$/, '');
  return `${base}/api/v1${path}`;
};

const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.api_key) {
    request.headers = request.headers || {};
    request.headers.Authorization = `Bearer ${bundle.authData.api_key}`;
  }
  return request;
};

// Every connector error is JSON {code, status, message, errors?}: show its message.
const raiseConnectorErrors = (response, z) => {
  if (response.status >= 400 && !response.skipThrowForStatus) {
    let message = response.content;
    try {
      const body = JSON.parse(response.content);
      message = body.message || message;
    } catch (e) {
      // not JSON: show the body as it is
    }
    throw new z.errors.Error(`${message} (HTTP ${response.status})`, `Connector${response.status}`, response.status);
  }
  return response;
};

module.exports = { apiUrl, addApiKey, raiseConnectorErrors };
