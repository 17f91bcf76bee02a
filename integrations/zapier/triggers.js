'use strict';
// One REST-hook trigger per catalog trigger, built from generated/triggers.json
// (`flask --app wsgi integrations generate` writes it from the connector's catalog).

const definitions = require('./generated/triggers.json');
const { apiUrl } = require('./api');
const { verify } = require('./signature');

const makeTrigger = (definition) => {
  const { key } = definition;
  const filterKeys = definition.inputFields.map((field) => field.key);

  // The trigger's filter inputs, as the user set them: POST /hooks takes them as they are.
  const performSubscribe = async (z, bundle) => {
    const filterInputs = {};
    for (const name of filterKeys) {
      if (bundle.inputData[name] !== undefined) {
        filterInputs[name] = bundle.inputData[name];
      }
    }
    const response = await z.request({
      url: apiUrl(bundle, '/hooks'),
      method: 'POST',
      body: { target_url: bundle.targetUrl, trigger: key, filter_inputs: filterInputs },
    });
    return response.data;
  };

  const performUnsubscribe = async (z, bundle) => {
    await z.request({
      url: apiUrl(bundle, `/hooks/${encodeURIComponent(bundle.subscribeData.id)}`),
      method: 'DELETE',
    });
    return { id: bundle.subscribeData.id };
  };

  const perform = async (z, bundle) => {
    const secret = bundle.subscribeData && bundle.subscribeData.secret;
    if (verify(secret, bundle.rawRequest) === false) {
      throw new z.errors.Error('The webhook signature does not match this subscription\'s secret', 'BadSignature', 401);
    }
    return [bundle.cleanedRequest];
  };

  const performList = async (z, bundle) => {
    const response = await z.request({ url: apiUrl(bundle, `/triggers/${key}/samples`), params: { limit: 3 } });
    return response.data;
  };

  // The connector's own definitions when it answers (a newer connector may know more fields), else the copy.
  const outputFields = async (z, bundle) => {
    try {
      const response = await z.request({ url: apiUrl(bundle, `/triggers/${key}/fields`), params: { format: 'zapier' } });
      return response.data;
    } catch (error) {
      return definition.outputFields;
    }
  };

  return {
    key,
    noun: definition.noun,
    display: { label: definition.label, description: definition.description },
    operation: {
      type: 'hook',
      inputFields: definition.inputFields,
      performSubscribe,
      performUnsubscribe,
      perform,
      performList,
      outputFields: [outputFields],
      sample: definition.sample,
    },
  };
};

const triggers = Object.fromEntries(definitions.map((definition) => [definition.key, makeTrigger(definition)]));

module.exports = { triggers, definitions };
