'use strict';
// The compiled addon; `npm ci` builds it (node-gyp rebuild) from src/opus_addon.c.
module.exports = require('./build/Release/babel_opus.node');
