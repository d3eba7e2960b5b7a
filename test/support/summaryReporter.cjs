'use strict';
// mocha's spec reporter, plus a last plain line "N passed, N failed[, N skipped]" that any CI can read.
const { Spec } = require('mocha').reporters;
const { EVENT_RUN_END } = require('mocha').Runner.constants;

class SummaryReporter extends Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const { passes, failures, pending } = this.stats;
      process.stdout.write(
        `\n${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}\n`,
      );
    });
  }
}

module.exports = SummaryReporter;
