'use strict';
// The compiled addon; `npm ci` builds it (node-gyp rebuild) from src/.
module.exports = require('./build/Release/babel_media.node');
