# Sourced by herd's scripts: exports JAVA_HOME pointing at a JDK >= 21 and puts it first on PATH.
# Looks at $JAVA_HOME first, then every JDK under /usr/lib/jvm (newest first).

herd_java_feature_version() { # prints the feature version (17, 21, 25, ...) of the java in $1/bin
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

herd_find_jdk() {
  local candidate version
  for candidate in "${JAVA_HOME:-}" $(ls -d /usr/lib/jvm/*/ 2>/dev/null | sort -rV); do
    candidate=${candidate%/}
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    version=$(herd_java_feature_version "$candidate")
    if [ -n "$version" ] && [ "$version" -ge 21 ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

if ! HERD_JDK=$(herd_find_jdk); then
  echo "herd: no JDK 21 or newer found (looked at JAVA_HOME and /usr/lib/jvm); install one, e.g. 'apt-get install openjdk-21-jdk-headless', or set JAVA_HOME" >&2
  exit 1
fi
export JAVA_HOME=$HERD_JDK
export PATH="$JAVA_HOME/bin:$PATH"
