/**
 * Problems of a workflow with what each is about (the step, the field, the
 * line), for `hwfe validate --json` and editors; their messages are what
 * {@link WorkflowError} has always carried.
 *
 * @module
 */

import { WorkflowError } from "../_util/errors.ts";

/** One problem of a workflow: its message, and what it is about when known. */
export interface Problem {
  /** The whole message, naming the file, step and field. */
  message: string;
  /** The step it is about. */
  step?: string;
  /** The field of the step (or of the workflow, without `step`) it is about. */
  field?: string;
  /** The line of the step's code it is about. */
  line?: number;
  /** The line of the workflow file it is about. */
  fileLine?: number;
}

/** A {@link WorkflowError} whose problems say what each is about. */
export class WorkflowProblems extends WorkflowError {
  /** The problems, in the order of `problems`. */
  readonly details: Problem[];
  constructor(details: Problem[], options?: ErrorOptions) {
    super(details.map((problem) => problem.message), options);
    this.details = details;
  }
}

/** The problems of an error: its details when it has them, else each message alone. */
export function problemsOf(error: WorkflowError): Problem[] {
  return error instanceof WorkflowProblems
    ? error.details
    : error.problems.map((message) => ({ message }));
}
