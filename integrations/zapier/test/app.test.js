'use strict';
// The app against a live connector: CONNECTOR_URL, CONNECTOR_API_KEY and CONNECTOR_ACCOUNT name it
// (tests/integrations/test_zapier_app.py starts one on 127.0.0.1 and runs `npm test`).

const assert = require('assert');
const http = require('http');
const zapier = require('zapier-platform-core');

const App = require('../index');
const { definitions } = require('../triggers');

const appTester = zapier.createAppTester(App);
const { CONNECTOR_URL, CONNECTOR_API_KEY, CONNECTOR_ACCOUNT } = process.env;
const authData = { api_key: CONNECTOR_API_KEY, base_url: CONNECTOR_URL };

// The connector's API called directly, for what the app itself does not do (publishing events).
const connector = async (method, path, body) => {
  const response = await fetch(`${CONNECTOR_URL}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${CONNECTOR_API_KEY}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
};

// A webhook target on 127.0.0.1 that records what it gets; `next()` waits for a request, with a deadline.
const startReceiver = async () => {
  const received = [];
  const waiting = [];
  const server = http.createServer((request, response) => {
    let content = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (content += chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, content });
      response.end('ok');
      waiting.splice(0).forEach((wake) => wake());
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const next = (count, timeoutMs = 10000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver: no request ${count} in ${timeoutMs} ms`)), timeoutMs);
      const check = () => {
        if (received.length >= count) {
          clearTimeout(timer);
          resolve(received[count - 1]);
        } else {
          waiting.push(check);
        }
      };
      check();
    });
  return { url: `http://127.0.0.1:${server.address().port}/zap/1`, received, next, close: () => server.close() };
};

describe('connector Zapier app', () => {
  before(() => {
    assert.ok(
      CONNECTOR_URL && CONNECTOR_API_KEY && CONNECTOR_ACCOUNT,
      'set CONNECTOR_URL, CONNECTOR_API_KEY and CONNECTOR_ACCOUNT (or run tests/integrations/test_zapier_app.py)',
    );
  });

  it('validates against zapier-platform-schema', async () => {
    const handler = zapier.createAppHandler(App);
    const response = await handler({ command: 'validate' });
    assert.deepStrictEqual(response.results, []);
  });

  it('has one REST-hook trigger per catalog trigger', async () => {
    const catalog = await connector('GET', '/triggers');
    assert.deepStrictEqual(Object.keys(App.triggers), catalog.body.triggers.map((t) => t.key));
    for (const trigger of Object.values(App.triggers)) {
      assert.strictEqual(trigger.operation.type, 'hook');
    }
  });

  it('its static field copies equal what the connector serves', async () => {
    for (const definition of definitions) {
      const filters = await connector('GET', `/triggers/${definition.key}/filters?format=zapier`);
      assert.deepStrictEqual(definition.inputFields, filters.body, `${definition.key} inputFields`);
      const fields = await appTester(App.triggers[definition.key].operation.outputFields[0], { authData });
      assert.deepStrictEqual(fields, definition.outputFields, `${definition.key} outputFields`);
    }
  });

  it('falls back to its static output fields when the connector cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const unreachable = `http://127.0.0.1:${closed.address().port}`;
    await new Promise((resolve) => closed.close(resolve));
    const trigger = App.triggers.purchase;
    const fields = await appTester(trigger.operation.outputFields[0], { authData: { ...authData, base_url: unreachable } });
    assert.deepStrictEqual(fields, definitions.find((d) => d.key === 'purchase').outputFields);
  });

  describe('authentication', () => {
    it('tests the key with GET /me and labels the connection with the account name', async () => {
      const me = await appTester(App.authentication.test, { authData });
      assert.strictEqual(me.name, CONNECTOR_ACCOUNT);
      const label = await appTester(App.authentication.connectionLabel, { authData, inputData: me });
      assert.strictEqual(label, CONNECTOR_ACCOUNT);
    });

    it("fails with the connector's message for a bad key", async () => {
      await assert.rejects(
        appTester(App.authentication.test, { authData: { ...authData, api_key: 'ck_000000000000_not-a-real-key-at-all' } }),
        /invalid API key \(HTTP 401\)/,
      );
    });
  });

  describe('a REST hook, end to end', () => {
    let receiver;
    before(async () => {
      receiver = await startReceiver();
    });
    after(() => receiver.close());

    it('subscribes with filters, receives a matching event, performs, lists and unsubscribes', async () => {
      const trigger = App.triggers.changed_appointment;
      const subscribeData = await appTester(trigger.operation.performSubscribe, {
        authData,
        targetUrl: receiver.url,
        inputData: { event: ['place'], min_price: '5000', res_name: '' },
      });
      assert.match(subscribeData.id, /^hook_/);
      assert.match(subscribeData.secret, /^whsec_/);
      assert.deepStrictEqual(subscribeData.filters, { event: { in: ['place'] }, price: { gte: 5000 } });

      const booking = { id: 81723, res_name: 'Ms. Tanaka', price: '6000.00', status: 2, full_name: '佐藤 花子' };
      const cheap = await connector('POST', '/events', {
        object: 'appointment', event: 'place', role: 3, data: { ...booking, id: 81722, price: '1000.00' },
      });
      assert.strictEqual(cheap.body.deliveries, 0, 'the filter keeps the cheap booking out');
      const published = await connector('POST', '/events', { object: 'appointment', event: 'place', role: 3, data: booking });
      assert.strictEqual(published.status, 202);
      assert.strictEqual(published.body.deliveries, 1);

      const request = await receiver.next(1);
      const results = await appTester(trigger.operation.perform, {
        authData,
        subscribeData,
        cleanedRequest: JSON.parse(request.content),
        rawRequest: { headers: request.headers, content: request.content },
      });
      assert.strictEqual(results.length, 1);
      assert.strictEqual(results[0].event_id, published.body.id);
      assert.strictEqual(results[0].full_name, '佐藤 花子');
      assert.strictEqual(results[0].status_message, 'Pending approval');
      assert.strictEqual(results[0].trigger, 'changed_appointment');

      await assert.rejects(
        appTester(trigger.operation.perform, {
          authData,
          subscribeData: { ...subscribeData, secret: 'whsec_' + Buffer.from('another secret').toString('base64') },
          cleanedRequest: JSON.parse(request.content),
          rawRequest: { headers: request.headers, content: request.content },
        }),
        /signature does not match/,
      );

      const listed = await appTester(trigger.operation.performList, { authData });
      assert.strictEqual(listed[0].event_id, published.body.id, 'the newest real payload comes first');

      await appTester(trigger.operation.performUnsubscribe, { authData, subscribeData });
      assert.strictEqual((await connector('GET', `/hooks/${subscribeData.id}`)).status, 404);
      const after = await connector('POST', '/events', { object: 'appointment', event: 'place', role: 3, data: booking });
      assert.strictEqual(after.body.deliveries, 0, 'nothing is delivered after unsubscribing');
    });

    it('rejects a filter the trigger does not offer with a clear message', async () => {
      await assert.rejects(
        appTester(App.triggers.new_user.operation.performSubscribe, {
          authData,
          targetUrl: receiver.url,
          inputData: { role: ['99'] },
        }),
        /invalid filters \(HTTP 422\)/,
      );
    });
  });

  describe('performList', () => {
    for (const definition of definitions) {
      it(`${definition.key}: samples with the envelope`, async () => {
        const listed = await appTester(App.triggers[definition.key].operation.performList, { authData });
        assert.ok(listed.length >= 1);
        for (const item of listed) {
          assert.strictEqual(item.trigger, definition.key);
          assert.ok(item.event_id && item.occurred_at && item.event !== undefined && item.role !== undefined);
        }
      });
    }
  });
});
