addEventListener('error', function (e) { if (e.target instanceof HTMLScriptElement) document.documentElement.classList.add('boot-failed'); }, true);
