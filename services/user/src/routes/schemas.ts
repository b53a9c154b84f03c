import { Type } from '@ecommerce/kit';
import { PASSWORD_MIN_LENGTH } from '../model/password-policy.js';

export const UserSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.String(),
    role: Type.Union([Type.Literal('customer'), Type.Literal('admin')]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', title: 'User' },
);

export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: 128 });
/**
 * A refresh token is opaque to its holder: any string up to 1,024 characters is judged as a token, so one this service
 * never issued (`"nope"`, a JWT pasted by mistake) is 401 as API.md says, not a 400. Issued ones are 43 characters.
 */
export const RefreshToken = Type.String({ maxLength: 1024 });

export const TokenPair = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  refreshToken: Type.Optional(Type.String({ description: 'absent when it was set as the refresh cookie (refreshTokenIn "cookie")' })),
});

export const RefreshTokenIn = Type.Union([Type.Literal('body'), Type.Literal('cookie')], {
  description: '"cookie": the refresh token is set as an HttpOnly; Secure; SameSite=Strict cookie for the refresh and logout paths, not returned in the body',
});
