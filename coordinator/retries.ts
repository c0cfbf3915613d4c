/** The most retries a run may have: a run that fails that often will not succeed. Its own file so that --help can print it without loading the runner (and the simulator). */
export const MAX_RETRIES = 10;
