// rpserver lab pages: sign-in, Security Info and the admin views. Plain
// JavaScript modules, no framework, nothing loaded from elsewhere: the
// Content-Security-Policy allows scripts from this origin only. This entry
// module picks the page's module from <body data-page>; each page is one
// module, sharing dom.js, api.js, webauthn.js and format.js.
import {fail, ready} from './dom.js';
import signinPage from './signin.js';
import securityInfoPage from './security-info.js';
import adminPage from './admin.js';

const pages = {signin: signinPage, 'security-info': securityInfoPage, admin: adminPage};
const run = pages[document.body.dataset.page];
if (run) {
  Promise.resolve(run())
    .catch((err) => fail('scriptError', String(err && err.message || err)))
    .finally(ready);
}
