/**
 * Version of the simulation model. It is part of every stored record's key: bump it
 * whenever a change to the simulator changes its figures, so that stored results of the
 * old model are not mistaken for results of the new one (they stay on disk, and are
 * ignored). Its own file, so that `--version` and the store read it without loading the
 * simulator.
 */
export const MODEL_VERSION = 'vcpusim-model-8';
