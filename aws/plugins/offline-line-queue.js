'use strict';

// Offline only (`serverless offline`): feeds functions with an `sqs` event from an SQS-compatible
// endpoint, as Lambda's SQS pollers do on AWS. serverless-offline 13 runs no SQS events itself,
// and serverless-offline-sqs (8.0.0) polls one batch at a time per queue, so a worker that waits
// for its slot would hold up every message behind it; here several pollers run side by side
// (`maximumConcurrency` of the event, at most $COUCHPAY_OFFLINE_SQS_POLLERS, default 10), each
// receiving up to `batchSize` messages and invoking the function through serverless-offline's
// own Lambda Invoke API (--lambdaPort). Messages the function did not list in
// `batchItemFailures` are deleted; the others come back after the visibility timeout.
//
// aws-sdk v2 is Serverless Framework 3's own dependency (the SQS client; serverless-offline's
// Invoke API needs none). Active when AWS_ENDPOINT_URL_SQS is set (the tests point it at moto); the queue is created
// there from its resource's QueueName and VisibilityTimeout. Nothing here runs on deploy.

const SQS = require('aws-sdk/clients/sqs');

const net = require('node:net');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// serverless-offline's Lambda server is up (no message is taken before it can be delivered).
const listening = (host, port) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });

class OfflineLineQueue {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.options = options || {};
    this.log = (utils && utils.log) || console;
    this.running = false;
    // `serverless offline` runs the one `offline:start` hook (serverless-offline's never
    // returns: this plugin is listed before it); `serverless offline start` runs `init`.
    this.hooks = {
      'offline:start': () => this.start(),
      'offline:start:init': () => this.start(),
      'offline:start:end': () => this.stop(),
    };
  }

  resources() {
    const { resources } = this.serverless.service;
    const parts = Array.isArray(resources) ? resources : [resources || {}];
    return Object.assign({}, ...parts.map((part) => (part && part.Resources) || {}));
  }

  queueOf(arn) {
    const ref = arn && arn['Fn::GetAtt'];
    if (ref) return (this.resources()[ref[0]] || {}).Properties || {};
    if (typeof arn === 'string') return { QueueName: arn.split(':').pop() };
    return {};
  }

  async start() {
    if (this.running) return;
    const endpoint = process.env.AWS_ENDPOINT_URL_SQS;
    const { service } = this.serverless;
    const fed = [];
    for (const key of service.getAllFunctions()) {
      const fn = service.getFunction(key);
      for (const event of fn.events || []) {
        if (event.sqs) fed.push({ name: fn.name, sqs: event.sqs });
      }
    }
    if (!fed.length) return;
    if (!endpoint) {
      this.log.warning('offline-line-queue: AWS_ENDPOINT_URL_SQS is not set; sqs events do not run');
      return;
    }
    const region = this.options.region || service.provider.region;
    const client = new SQS({ endpoint, region });
    this.running = true;
    for (const { name, sqs } of fed) {
      const props = this.queueOf(sqs.arn);
      const attributes = {};
      if (props.VisibilityTimeout) attributes.VisibilityTimeout = String(props.VisibilityTimeout);
      const { QueueUrl } = await client
        .createQueue({ QueueName: props.QueueName, Attributes: attributes })
        .promise();
      const most = Number(process.env.COUCHPAY_OFFLINE_SQS_POLLERS || 10);
      const pollers = Math.max(1, Math.min(Number(sqs.maximumConcurrency || most), most));
      for (let i = 0; i < pollers; i += 1) {
        this.poll(client, QueueUrl, name, Number(sqs.batchSize || 10), region);
      }
      this.log.notice(`offline-line-queue: ${pollers} pollers feed ${name} from ${QueueUrl}`);
    }
  }

  async poll(client, queueUrl, functionName, batchSize, region) {
    const host = this.options.host || '127.0.0.1';
    const port = this.options.lambdaPort || 3002;
    const url = `http://${host}:${port}/2015-03-31/functions/${functionName}/invocations`;
    while (this.running && !(await listening(host, port))) await sleep(200);
    while (this.running) {
      try {
        const { Messages } = await client
          .receiveMessage({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, batchSize),
            WaitTimeSeconds: 1,
            AttributeNames: ['All'],
          })
          .promise();
        if (!Messages || !Messages.length) continue;
        const event = {
          Records: Messages.map((m) => ({
            messageId: m.MessageId,
            receiptHandle: m.ReceiptHandle,
            body: m.Body,
            attributes: m.Attributes || {},
            messageAttributes: {},
            md5OfBody: m.MD5OfBody,
            eventSource: 'aws:sqs',
            eventSourceARN: `arn:aws:sqs:${region}:000000000000:${queueUrl.split('/').pop()}`,
            awsRegion: region,
          })),
        };
        const response = await fetch(url, { method: 'POST', body: JSON.stringify(event) });
        const text = await response.text();
        let failed = new Set(Messages.map((m) => m.MessageId));
        if (response.ok && !response.headers.get('x-amz-function-error')) {
          const result = text ? JSON.parse(text) : {};
          failed = new Set(((result && result.batchItemFailures) || []).map((f) => f.itemIdentifier));
          if (failed.size) {
            this.log.warning(`offline-line-queue: ${functionName}: ${failed.size} messages failed`);
          }
        } else {
          this.log.warning(`offline-line-queue: ${functionName} failed: ${text.slice(0, 500)}`);
        }
        const done = Messages.filter((m) => !failed.has(m.MessageId));
        if (done.length) {
          await client
            .deleteMessageBatch({
              QueueUrl: queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            })
            .promise();
        }
      } catch (err) {
        if (this.running) this.log.warning(`offline-line-queue: ${err && err.message}`);
        await sleep(500);
      }
    }
  }

  stop() {
    this.running = false;
  }
}

module.exports = OfflineLineQueue;
