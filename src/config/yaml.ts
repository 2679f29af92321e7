/**
 * A YAML parser's error without the excerpt of the file it appends after its first line: the
 * files read here hold passwords and tokens (postgres.yaml, Secrets, resourceController.yaml,
 * config.yaml), and the excerpt put them on the terminal and in logs. The first line keeps what
 * was wrong and where ("… at line 3, column 8").
 */
export function yamlProblem(err: Error): string {
  return err.message.split('\n')[0]!.replace(/:\s*$/, '');
}
