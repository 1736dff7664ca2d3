package reconcile

import (
	"fmt"

	"github.com/barycenter/usersync/internal/userfile"
)

// checkResolved refuses a file whose password_env or password_file users
// were not resolved (userfile.Resolve): their empty plaintext must never
// be hashed and stored.
func checkResolved(f *userfile.File) error {
	for i := range f.Users {
		if u := &f.Users[i]; u.Password == "" && u.PasswordHash == "" {
			return fmt.Errorf("password of %q was not resolved: run userfile.Resolve first", u.Username)
		}
	}
	return nil
}
