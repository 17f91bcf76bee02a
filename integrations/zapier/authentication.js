'use strict';
// API-key authentication: tested by GET /api/v1/me, labelled with the account name.

const { apiUrl } = require('./api');

const test = async (z, bundle) => {
  const response = await z.request({ url: apiUrl(bundle, '/me') });
  return response.data;
};

module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'api_key',
      label: 'API key',
      type: 'password',
      required: true,
      helpText: 'An API key of your connector account (`flask --app wsgi keys issue ACCOUNT` prints one).',
    },
    {
      key: 'base_url',
      label: 'Connector URL',
      type: 'string',
      required: false,
      helpText: 'Where your connector runs, e.g. `https://connector.example.com`. Leave blank to use the URL this app was published with.',
    },
  ],
  test,
  // The test's answer ({id, name, created_at}) is the bundle's inputData here.
  connectionLabel: (z, bundle) => bundle.inputData.name,
};
