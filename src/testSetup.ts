// Vitest setup: IS_TEST silences tfjs's "install tfjs-node" banner in every test file.
import * as tf from '@tensorflow/tfjs';

tf.env().set('IS_TEST', true);
