// The error every parser of this folder throws for unusable input: it names the resource field and the reason
// (e.g. `spec.ingress[0].destination.ports[1]: range "80:70": start is greater than end`). Pure.
export class FieldError extends Error {
  override name = 'FieldError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
