'use strict';

// Builds the Python deployment package (../build_lambda.py) when Serverless packages the service
// (`serverless package` / `serverless deploy`), and makes it the service's artifact.
// serverless-offline does not package: it runs the handlers from the repository's .venv.
// Before a deploy, refuses to go on without the Cognito pool and the Stripe secret key's SSM
// parameter (a SecureString: README, "Deploy to AWS"); warns without the webhook secret's
// parameter or an SNS topic for the alarms.
//
// The interpreter is $COUCHPAY_BUILD_PYTHON, else ../.venv/bin/python, else python3.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

class PythonArtifact {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.log = (utils && utils.log) || { warning: (message) => console.warn(message) };
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.build(),
      'before:deploy:deploy': async () => {
        this.checkSettings();
        await this.checkSecrets();
      },
    };
  }

  checkSettings() {
    const { service } = this.serverless;
    const connect = service.functions.connect.environment;
    const missing = [
      ['cognitoUserPoolId (COGNITO_USER_POOL_ID)', !connect.COUCHPAY_TOKEN_ISSUER.endsWith('/')],
      ['cognitoClientId (COGNITO_CLIENT_ID)', connect.COUCHPAY_TOKEN_AUDIENCE],
    ]
      .filter(([, value]) => !value)
      .map(([name]) => name);
    if (missing.length) {
      throw new this.serverless.classes.Error(
        `couchpay: set ${missing.join(', ')} before deploying (see README, "Deploy to AWS")`
      );
    }
    if (!service.custom.alarmTopicArn) {
      this.log.warning(
        'couchpay: no alarmTopicArn: the CloudWatch alarms will notify nobody ' +
          '(--param="alarmTopicArn=arn:aws:sns:...")'
      );
    }
  }

  // The secrets are never read here: only whether the parameters exist (no decryption).
  async checkSecrets() {
    const stripe = this.serverless.service.custom.stripeEnvironment;
    const key = stripe.STRIPE_SECRET_KEY_PARAMETER;
    const webhook = stripe.STRIPE_WEBHOOK_SECRET_PARAMETER;
    const provider = this.serverless.getProvider('aws');
    const found = await provider.request('SSM', 'getParameters', {
      Names: [key, webhook],
      WithDecryption: false,
    });
    const absent = new Set(found.InvalidParameters || []);
    if (absent.has(key)) {
      throw new this.serverless.classes.Error(
        `couchpay: put the Stripe secret key in SSM first: aws ssm put-parameter --type ` +
          `SecureString --name ${key} --value sk_live_... (see README, "Deploy to AWS")`
      );
    }
    if (absent.has(webhook)) {
      this.log.warning(
        `couchpay: no SSM parameter ${webhook}: /stripe/webhook answers 503 until you create ` +
          'the Stripe endpoint and put its signing secret there (new containers read it)'
      );
    }
  }

  python() {
    if (process.env.COUCHPAY_BUILD_PYTHON) return process.env.COUCHPAY_BUILD_PYTHON;
    const venv = path.resolve(this.serverless.serviceDir, '..', '.venv', 'bin', 'python');
    return fs.existsSync(venv) ? venv : 'python3';
  }

  build() {
    const { service } = this.serverless;
    const serviceDir = this.serverless.serviceDir;
    // Serverless builds in .serverless/ and moves it all to --package DIR at the end.
    const out = path.join(serviceDir, '.serverless', `${service.service}.zip`);
    const runtime = String(service.provider.runtime || 'python3.11');
    execFileSync(
      this.python(),
      [
        path.join(serviceDir, 'build_lambda.py'),
        '--out',
        out,
        '--python-version',
        runtime.replace(/^python/, ''),
        '--architecture',
        String(service.provider.architecture || 'x86_64'),
      ],
      { stdio: 'inherit' }
    );
    service.package.artifact = out;
  }
}

module.exports = PythonArtifact;
