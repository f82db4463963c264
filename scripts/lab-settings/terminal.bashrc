# Start-up of JupyterLab's terminals (scripts/lab): what a login shell reads, then the
# course's environment first on PATH. Last, because a login shell's files may reset PATH
# (Debian's /etc/profile does for root; pyenv or conda put their own python first).
if [ -r /etc/profile ]; then . /etc/profile; fi
for f in ~/.bash_profile ~/.bash_login ~/.profile; do
    if [ -r "$f" ]; then . "$f"; break; fi
done
VIRTUAL_ENV="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)/.venv"
export VIRTUAL_ENV
export PATH="$VIRTUAL_ENV/bin:$PATH"
hash -r
