'use strict';
// The compiled addon; `npm ci` builds it (node-gyp rebuild) from src/alsa_addon.c.
module.exports = require('./build/Release/babel_alsa.node');
