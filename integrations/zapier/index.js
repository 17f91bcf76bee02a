'use strict';
// The connector's Zapier app: API-key authentication and one REST-hook trigger per catalog trigger.

const authentication = require('./authentication');
const { addApiKey, raiseConnectorErrors } = require('./api');
const { triggers } = require('./triggers');

module.exports = {
  version: require('./package.json').version,
  platformVersion: require('zapier-platform-core').version,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [raiseConnectorErrors],
  triggers,
};
